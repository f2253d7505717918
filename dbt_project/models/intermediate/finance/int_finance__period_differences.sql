{# What late data changed in the months closed now (月结后调整), per closing mart, month,
    adjustment grain and measure: as built now against as closed (macros/closed_periods.sql),
    with the files delivered for the month after its close and the runs that loaded them.
    Built whole each run; the closing marts pivot their adjustment rows from it. #}
with

closes as (
    {{ current_closes() }}
),

late_files as (
    select distinct
        closes.period,
        files.source || '/' || cast(files.business_date as varchar(10)) || '/' || files.file_name
            as file_path,
        files.run_id
    from {{ source('audit', 'ingest_files') }} as files
    inner join closes on {{ period_of('files.business_date') }} = closes.period
    where files.status = 'LOADED' and files.ingested_at > closes.done_at
),

files_by_period as (
    select
        period,
        {{ dbt.listagg('file_path', "', '", 'order by file_path') }} as adjustment_files
    from (
        select distinct
            period,
            file_path
        from late_files
    ) as distinct_files
    group by period
),

runs_by_period as (
    select
        period,
        {{ dbt.listagg('run_id', "', '", 'order by run_id') }} as adjustment_runs
    from (
        select distinct
            period,
            run_id
        from late_files
    ) as distinct_runs
    group by period
),

{%- set closing_marts = [
    ('fct_sales_margin', ref('int_margin__order_lines')),
    ('fct_margin_daily', ref('int_margin__daily')),
    ('recon_sales_ledger', ref('int_finance__recon_daily')),
    ('recon_breaks', ref('int_finance__recon_documents')),
    ('points_liability', ref('int_points__liability_daily')),
    ('points_interbrand_settlement', ref('int_points__interbrand_settlement')),
    ('marketing_budget_vs_actual', ref('int_marketing__budget_vs_actual')),
    ('compliance_rx_violations', ref('int_compliance__rx_violations')),
    ('compliance_traceability', ref('int_compliance__traceability_issues')),
] %}

differences as (
    {%- for mart, as_built in closing_marts %}
        {{ period_differences(mart, as_built, source('closed', mart), 'closes') }}
        {{ "union all" if not loop.last }}
    {%- endfor %}
),

final as (
    select
        differences.mart,
        differences.adjusts_period,
        differences.brand_code,
        differences.item,
        differences.measure,
        differences.closed_amount,
        differences.current_amount,
        cast(differences.current_amount - differences.closed_amount as decimal(18, 2))
            as adjustment_amount,
        differences.is_carried,
        closes.event_id as close_event_id,
        closes.done_at as closed_at,
        files_by_period.adjustment_files,
        runs_by_period.adjustment_runs
    from differences
    inner join closes on differences.adjusts_period = closes.period
    left join files_by_period on differences.adjusts_period = files_by_period.period
    left join runs_by_period on differences.adjusts_period = runs_by_period.period
)

select * from final
