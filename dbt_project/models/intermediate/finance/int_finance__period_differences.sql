{# What late data changed in the months closed now (月结后调整), per closing mart, month,
    adjustment grain and measure: as built now against as closed (macros/closed_periods.sql),
    with the files delivered for the month after its close and the runs that loaded them.
    The closing marts pivot their adjustment rows from it.
    Incremental by mart and month: a run compares again only what it can have changed —
    the closed months from its window's first (a running balance moves every later month),
    months closed since the last run, and months whose differences name a customer the
    run's merges retired; rows of a close no longer current are dropped (post-hook).
    Reference data changed for closed months is compared by a full refresh. #}
{{ config(post_hook=(
    "delete from {{ this }} where close_event_id not in "
    "(select closes.event_id from ({{ current_closes() }}) as closes)"
)) }}
-- depends_on: {{ ref('int_identity__key_merges') }}
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
    ('customer_daily_activity', ref('int_customer__daily_activity')),
] %}

{% if is_incremental() %}
compared as (
    select distinct
        mart,
        close_event_id
    from {{ this }}
    where measure = 'row_count' and brand_code is null and item is null
),

rekeyed as (
    select distinct
        mart,
        adjusts_period
    from {{ this }}
    where item in (
        select merges.retired_customer_key from {{ ref('int_identity__key_merges') }} as merges
        where {{ in_window('merges.merged_on') }}
    )
),
{% endif %}

closing as (
    {%- for mart, as_built in closing_marts %}
        select '{{ mart }}' as mart
        {{ "union all" if not loop.last }}
    {%- endfor %}
),

months_to_compare as (
    select
        closing.mart,
        closes.period
    from closes
    cross join closing
    {%- if is_incremental() %}
    where
        closes.period >= {{ period_of(window_start()) }}
        or not exists (
            select 1 from compared
            where compared.mart = closing.mart and compared.close_event_id = closes.event_id
        )
        or exists (
            select 1 from rekeyed
            where rekeyed.mart = closing.mart and rekeyed.adjusts_period = closes.period
        )
    {%- endif %}
),

differences as (
    {%- for mart, as_built in closing_marts %}
        {%- set months = "(select period from months_to_compare where mart = '" ~ mart ~ "')" %}
        {{ period_differences(mart, as_built, source('closed', mart), 'closes', months) }}
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
