-- The contract's pattern holds on every loaded value.
select
    source_file,
    source_row_number
from {{ batch }}
where
    {{ column }} is not null
    and not regexp_matches(cast({{ column }} as varchar), {{ literal(pattern) }})
