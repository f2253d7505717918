-- Brand-day measures that are not exactly matched (within tolerance or a break).
select
    business_date,
    brand_code,
    measure,
    difference
from {{ batch }}
where {{ window.sql('business_date') }} and status <> 'MATCHED'
