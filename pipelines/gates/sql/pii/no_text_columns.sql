-- A mart without text columns holds no personal data shapes.
select null as column_name
from {{ batch }}
where false
