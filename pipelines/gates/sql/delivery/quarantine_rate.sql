-- Business dates that quarantined more than the threshold's share of their rows.
select
    daily.business_date,
    daily.rows_quarantined,
    daily.rows_read
from (
    select
        business_date,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_read) as rows_read
    from {{ batch }}
    group by business_date
) as daily
where
    daily.rows_quarantined > {{ rows_tolerated }}
    and daily.rows_quarantined > {{ rate_max }} * daily.rows_read
