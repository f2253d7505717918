-- Rows whose text column holds something shaped like personal data, once tokens and
-- separators are taken out ("+86 138-1234-5678" is still a phone). Names the column,
-- never the value. (pipelines/gates/pii.py unions one per text column.)
select {{ literal(column) }} as column_name
from {{ batch }}
where regexp_matches(
    regexp_replace(
        regexp_replace({{ column }}, {{ literal(token_shapes) }}, '', 'g'),
        {{ literal(separators) }}, '', 'g'
    ),
    {{ literal(shape) }}
)
