{#
    Loyalty-point movements of identified customers, one row per order line, in points
    (100 points = 1 CNY). credit_points add to the customer's balance (earned on a sale,
    refunded on a return of a line paid with points); debit_points take from it (spent
    on a sale, reversed when a line that earned points is returned). Within a line the
    debit comes first: points earned on a line cannot pay for it.
#}
with

lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where
        customer_key is not null
        and (points_earned_value <> 0 or points_redeemed_value <> 0)
),

points as (
    select
        customer_key,
        brand_code,
        business_date,
        order_ts,
        order_id,
        line_no,
        cast(points_earned_value * 100 as bigint) as earned,
        cast(points_redeemed_value * 100 as bigint) as redeemed
    from lines
),

final as (
    select
        customer_key,
        brand_code,
        business_date,
        order_ts,
        order_id,
        line_no,
        greatest(earned, 0) + greatest(-redeemed, 0) as credit_points,
        greatest(redeemed, 0) + greatest(-earned, 0) as debit_points
    from points
)

select * from final
