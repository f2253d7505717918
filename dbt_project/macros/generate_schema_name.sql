{#- Schemas are named for their layer (staging, intermediate, marts, reference), not
    prefixed with the target schema: analysts and the gates refer to marts.<table>. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
