-- A contract row rule (a SQL condition every row satisfies).
select
    source_file,
    source_row_number
from {{ batch }}
where not ({{ condition }})
