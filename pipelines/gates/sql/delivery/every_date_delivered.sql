-- Business dates of the window with no loaded file.
with

delivered as (
    select business_date from {{ batch }}
),

window_days as (
    select cast(series.series_day as date) as business_date
    from generate_series(
        date '{{ window.start }}', date '{{ window.end }}', interval 1 day
    ) as series (series_day)
)

select window_days.business_date
from window_days
where window_days.business_date not in (select delivered.business_date from delivered)
