{#- Loyalty points to CNY (100 points = 1 CNY), exactly: decimal multiplication, never
    division (DuckDB divides decimals in floating point). -#}
{% macro points_value(points) -%}
    cast({{ points }} * 0.01 as decimal(18, 2))
{%- endmacro %}

{#- +1 for a sale, -1 for a return: returns enter the marts with negative signs. -#}
{% macro line_sign(line_type) -%}
    case when {{ line_type }} = 'RETURN' then -1 else 1 end
{%- endmacro %}
