-- Text columns holding something shaped like personal data, once tokens and separators
-- are taken out ("+86 138-1234-5678" is still a phone). Names the column, never the value.
{% for column in text_columns %}
select {{ column | literal }} as column_name
from {{ batch }}
where regexp_matches(
    regexp_replace(
        regexp_replace({{ column }}, {{ token_shapes | literal }}, '', 'g'),
        {{ separators | literal }}, '', 'g'
    ),
    {{ shape | literal }}
)
{% if not loop.last %}
union all
{% endif %}
{% else %}
select null as column_name
from {{ batch }}
where false
{% endfor %}
