{#- Every row satisfies a SQL expression (dbt_utils' expression_is_true, written here
    because the dbt package hub is out of reach). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
