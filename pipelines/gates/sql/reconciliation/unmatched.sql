-- Brand-day measures that are not exactly matched (within tolerance or a break).
-- (Adjustment rows carry late data for a closed month: they are not brand-days.)
select
    business_date,
    brand_code,
    measure,
    difference
from {{ batch }}
where {{ window.sql('business_date') }} and not is_adjustment and status <> 'MATCHED'
