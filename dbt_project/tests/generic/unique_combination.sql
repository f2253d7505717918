{#- A composite key is unique (dbt_utils' unique_combination_of_columns, which we cannot
    install: the dbt package hub is out of reach here). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
