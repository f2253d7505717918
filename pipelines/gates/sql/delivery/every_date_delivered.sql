-- Business dates of the window with no loaded file.
select days.business_date
from (
    select cast(day as date) as business_date
    from generate_series(
        date '{{ window.start }}', date '{{ window.end }}', interval 1 day
    ) as series (day)
) as days
where days.business_date not in (select business_date from {{ batch }})
