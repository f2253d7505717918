{#
    Which earned points each spend used up, first in first out per customer across brands
    (积分通兑, FIFO). Credits and debits are laid end to end on the customer's timeline;
    a debit takes the overlap of its range with each credit's range. Debits of the window
    are allocated against the customer's whole history; FIFO is causal, so later movements
    never change an earlier allocation. Points spent beyond what history shows earned
    (balances from before the data starts) are allocated to earned_brand_code 'OPENING'.
#}
with

movements as (
    select * from {{ ref('int_points__movements') }}
    where
        business_date <= {{ window_end() }}
        and customer_key in (
            select window_movements.customer_key
            from {{ ref('int_points__movements') }} as window_movements
            where
                {{ in_window('window_movements.business_date') }}
                and window_movements.debit_points > 0
        )
),

credits as (
    select
        customer_key,
        brand_code as earned_brand_code,
        business_date as credit_date,
        order_id as credit_order_id,
        line_no as credit_line_no,
        sum(credit_points) over (
            partition by customer_key order by order_ts, order_id, line_no
            rows between unbounded preceding and current row
        ) as range_end,
        credit_points
    from movements
    where credit_points > 0
),

debits as (
    select
        customer_key,
        brand_code as redeemed_brand_code,
        business_date as debit_date,
        order_id,
        line_no,
        sum(debit_points) over (
            partition by customer_key order by order_ts, order_id, line_no
            rows between unbounded preceding and current row
        ) as range_end,
        debit_points
    from movements
    where debit_points > 0
),

credit_ranges as (
    select
        *,
        range_end - credit_points as range_start
    from credits
),

debit_ranges as (
    select
        *,
        range_end - debit_points as range_start
    from debits
    where {{ in_window('debit_date') }}
),

matched as (
    select
        debit_ranges.customer_key,
        debit_ranges.order_id,
        debit_ranges.line_no,
        debit_ranges.debit_date,
        debit_ranges.redeemed_brand_code,
        credit_ranges.earned_brand_code,
        credit_ranges.credit_date,
        credit_ranges.credit_order_id,
        credit_ranges.credit_line_no,
        least(debit_ranges.range_end, credit_ranges.range_end)
        - greatest(debit_ranges.range_start, credit_ranges.range_start) as points
    from debit_ranges
    inner join credit_ranges
        on
            debit_ranges.customer_key = credit_ranges.customer_key
            and debit_ranges.range_end > credit_ranges.range_start
            and debit_ranges.range_start < credit_ranges.range_end
),

earned_total as (
    select
        customer_key,
        max(range_end) as earned_points
    from credit_ranges
    group by customer_key
),

opening as (
    select
        debit_ranges.customer_key,
        debit_ranges.order_id,
        debit_ranges.line_no,
        debit_ranges.debit_date,
        debit_ranges.redeemed_brand_code,
        'OPENING' as earned_brand_code,
        cast(null as date) as credit_date,
        cast(null as varchar) as credit_order_id,
        cast(null as integer) as credit_line_no,
        debit_ranges.range_end
        - greatest(debit_ranges.range_start, coalesce(earned_total.earned_points, 0))
            as points
    from debit_ranges
    left join earned_total on debit_ranges.customer_key = earned_total.customer_key
    where debit_ranges.range_end > coalesce(earned_total.earned_points, 0)
),

allocations as (
    select * from matched
    union all
    select * from opening
),

final as (
    select
        customer_key,
        order_id,
        line_no,
        debit_date,
        redeemed_brand_code,
        earned_brand_code,
        credit_date,
        credit_order_id,
        credit_line_no,
        cast(points as bigint) as points
    from allocations
)

select * from final
