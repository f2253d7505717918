-- Traceability issues the compliance mart lists for the window.
select
    order_id,
    line_no,
    issue
from {{ batch }}
where {{ window.sql('business_date') }}
