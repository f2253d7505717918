-- Prescription-drug violations the compliance mart lists for the window.
select
    order_id,
    line_no,
    reason
from {{ batch }}
where {{ window.sql('business_date') }}
