-- An expression_is_true test of the mart, on every row.
select *
from {{ batch }}
where not ({{ expression }})
