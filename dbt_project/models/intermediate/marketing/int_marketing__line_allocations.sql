{#
    A campaign's month of expense (6601) allocated to the lines attributed to it, by their
    share of the campaign-month's recognised revenue (费用分摊). Exact in cents: each line
    gets floor(expense × share), and the remainder goes to the line with the most revenue,
    so allocations add up to the expense. A view over every month, with no window of its
    own: fct_margin_daily filters the months it rebuilds.
#}
with

lines as (
    select
        order_id,
        line_no,
        campaign_id,
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        {{ to_cents('recognized_revenue') }} as revenue_cents
    from {{ ref('int_margin__order_lines') }}
    where campaign_id is not null
),

expense as (
    select
        campaign_id,
        month_start,
        {{ to_cents('actual_expense') }} as expense_cents
    from {{ ref('int_marketing__campaign_expense') }}
),

shares as (
    select
        lines.*,
        expense.expense_cents,
        sum(lines.revenue_cents) over (
            partition by lines.campaign_id, lines.month_start
        ) as campaign_revenue_cents,
        row_number() over (
            partition by lines.campaign_id, lines.month_start
            order by lines.revenue_cents desc, lines.order_id asc, lines.line_no asc
        ) as share_rank
    from lines
    inner join expense
        on lines.campaign_id = expense.campaign_id and lines.month_start = expense.month_start
),

floored as (
    select
        *,
        case
            when campaign_revenue_cents > 0
                then {{ int_divide('expense_cents * revenue_cents', 'campaign_revenue_cents') }}
            else 0
        end as floor_cents
    from shares
),

final as (
    select
        order_id,
        line_no,
        campaign_id,
        month_start,
        floor_cents + case
            when share_rank = 1 and campaign_revenue_cents > 0
                then expense_cents - sum(floor_cents) over (partition by campaign_id, month_start)
            else 0
        end as allocated_cents
    from floored
)

select * from final
