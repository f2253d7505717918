{# Late data for closed months (月结后调整), listed per closing mart, month, brand and measure. #}
with

differences as (
    select * from {{ ref('int_finance__period_differences') }}
),

closes as (
    {{ current_closes() }}
),

carry as (
    {{ carry_months('closes') }}
),

final as (
    select
        differences.adjusts_period,
        differences.mart,
        differences.brand_code,
        differences.item,
        differences.measure,
        differences.closed_amount,
        differences.current_amount,
        differences.adjustment_amount,
        case when differences.is_carried then carry.carried_into end as carried_into_period,
        differences.closed_at,
        differences.adjustment_files,
        differences.adjustment_runs
    from differences
    -- a month reopened since the run: its differences are withdrawn
    inner join closes
        on
            differences.adjusts_period = closes.period
            and differences.close_event_id = closes.event_id
    inner join carry on differences.adjusts_period = carry.period
    -- row counts are kept when equal (the month was compared): list what changed
    where differences.adjustment_amount <> 0
)

select * from final
