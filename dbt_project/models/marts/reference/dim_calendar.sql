{# One row per day (日历): whole years, from the first year any extract has data for to
    the year after the latest of its data and today, so a join from any business date
    finds its day and planning can look a year ahead. The group's fiscal year is the
    calendar year (会计年度 1 Jan – 31 Dec), its periods the calendar months. #}

{#- The days are counted off a fixed series (no query at compile time, so the model
    compiles on an empty warehouse); a calendar longer than this fails its tests. -#}
{%- set max_days = 100 * 366 -%}
{%- set latest_day = "greatest(coalesce(max(known_day), current_date), current_date)" -%}
{%- set day_number = "day_offsets.generated_number" -%}

with

known_days as (
    select business_date as known_day from {{ ref('stg_sales__order_lines') }}
    union all
    select business_date from {{ ref('stg_consultations__prescription_items') }}
    union all
    select posting_date from {{ ref('stg_ledger__journal_lines') }}
),

bounds as (
    select
        cast(
            {{ dbt.date_trunc('year', "coalesce(min(known_day), current_date)") }} as date
        ) as first_day,
        {#- exclusive: the first day of the second year after -#}
        cast(
            {{ dbt.dateadd('year', 2, dbt.date_trunc('year', latest_day)) }} as date
        ) as after_last_day
    from known_days
),

day_offsets as (
    {{ dbt.generate_series(max_days) }}
),

days as (
    select
        cast({{ dbt.dateadd('day', day_number ~ ' - 1', 'bounds.first_day') }} as date) as date_day
    from bounds
    cross join day_offsets
    where
        {{ day_number }}
        <= {{ dbt.datediff('bounds.first_day', 'bounds.after_last_day', 'day') }}
),

parts as (
    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as calendar_year,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as calendar_quarter,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as calendar_month,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ iso_year('date_day') }} as iso_year,
        {{ iso_week('date_day') }} as iso_week,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week
    from days
),

labelled as (
    select
        *,
        cast(calendar_year as {{ dbt.type_string() }}) as year_text,
        cast(calendar_quarter as {{ dbt.type_string() }}) as quarter_text,
        cast(calendar_month as {{ dbt.type_string() }}) as month_text,
        cast(iso_year as {{ dbt.type_string() }}) as iso_year_text,
        {{ zero_padded('iso_week', 2) }} as iso_week_text
    from parts
),

final as (
    select
        date_day,
        calendar_year as fiscal_year,
        calendar_quarter as fiscal_quarter,
        calendar_month as fiscal_month,
        {{ period_of('date_day') }} as fiscal_period,
        {{ dbt.concat(['year_text', "'-Q'", 'quarter_text']) }} as fiscal_quarter_label,
        {{ dbt.concat(['year_text', "'年'", 'month_text', "'月'"]) }} as fiscal_period_name_zh,
        iso_year,
        iso_week,
        {{ dbt.concat(['iso_year_text', "'-W'", 'iso_week_text']) }} as iso_week_label,
        iso_day_of_week,
        case iso_day_of_week
            when 1 then '星期一'
            when 2 then '星期二'
            when 3 then '星期三'
            when 4 then '星期四'
            when 5 then '星期五'
            when 6 then '星期六'
            else '星期日'
        end as day_name_zh,
        iso_day_of_week >= 6 as is_weekend,
        day_of_month
    from labelled
)

select * from final
