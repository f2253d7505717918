{# Budget → activity → expense (三算合一) per campaign and month. #}
with

budgets as (
    select
        campaign_id,
        brand_code,
        period,
        campaign_name,
        budget_amount,
        cast(period || '-01' as date) as month_start
    from {{ ref('marketing_budgets') }}
),

expense as (
    select * from {{ ref('int_marketing__campaign_expense') }}
),

attributed as (
    select
        campaign_id,
        cast({{ dbt.date_trunc('month', 'business_date') }} as date) as month_start,
        cast(sum(recognized_revenue) as decimal(18, 2)) as attributed_revenue,
        cast(sum(gross_margin) as decimal(18, 2)) as attributed_gross_margin,
        count(*) as attributed_lines
    from {{ ref('int_margin__order_lines') }}
    where campaign_id is not null
    group by campaign_id, cast({{ dbt.date_trunc('month', 'business_date') }} as date)
),

joined as (
    select
        budgets.campaign_id,
        budgets.period,
        budgets.brand_code,
        budgets.campaign_name,
        budgets.budget_amount,
        coalesce(expense.actual_expense, 0) as actual_expense,
        coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
        coalesce(attributed.attributed_gross_margin, 0) as attributed_gross_margin,
        coalesce(attributed.attributed_lines, 0) as attributed_lines
    from budgets
    left join expense
        on budgets.campaign_id = expense.campaign_id and budgets.month_start = expense.month_start
    left join attributed
        on
            budgets.campaign_id = attributed.campaign_id
            and budgets.month_start = attributed.month_start
    where expense.campaign_id is not null or attributed.campaign_id is not null
),

final as (
    select
        campaign_id,
        period,
        brand_code,
        campaign_name,
        cast(budget_amount as decimal(18, 2)) as budget_amount,
        cast(actual_expense as decimal(18, 2)) as actual_expense,
        cast(attributed_revenue as decimal(18, 2)) as attributed_revenue,
        cast(attributed_gross_margin as decimal(18, 2)) as attributed_gross_margin,
        {# return on spend: (attributed gross margin − expense) / expense; a ratio #}

        cast(
            (attributed_gross_margin - actual_expense) / nullif(actual_expense, 0)
            as decimal(12, 4)
        ) as roi,
        actual_expense > budget_amount as is_over_budget,
        cast(attributed_lines as bigint) as attributed_lines
    from joined
)

select * from final
