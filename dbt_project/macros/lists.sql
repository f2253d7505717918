{#- Lists (arrays) where dialects differ: DuckDB's list functions, Spark's array ones. -#}

{#- One row per element of a list column, in a select list. -#}
{% macro explode_list(column) -%}
    {{ return(adapter.dispatch('explode_list')(column)) }}
{%- endmacro %}

{% macro default__explode_list(column) -%}
    explode({{ column }})
{%- endmacro %}

{% macro duckdb__explode_list(column) -%}
    unnest({{ column }})
{%- endmacro %}

{#- How many elements two lists of distinct elements have in common. -#}
{% macro list_overlap(left, right) -%}
    {{ return(adapter.dispatch('list_overlap')(left, right)) }}
{%- endmacro %}

{% macro default__list_overlap(left, right) -%}
    size(array_intersect({{ left }}, {{ right }}))
{%- endmacro %}

{% macro duckdb__list_overlap(left, right) -%}
    len(list_intersect({{ left }}, {{ right }}))
{%- endmacro %}

{#- The number of elements of a list. -#}
{% macro list_length(column) -%}
    {{ return(adapter.dispatch('list_length')(column)) }}
{%- endmacro %}

{% macro default__list_length(column) -%}
    size({{ column }})
{%- endmacro %}

{% macro duckdb__list_length(column) -%}
    len({{ column }})
{%- endmacro %}

{#- Whether a list holds a value. -#}
{% macro list_has(column, value) -%}
    {{ return(adapter.dispatch('list_has')(column, value)) }}
{%- endmacro %}

{% macro default__list_has(column, value) -%}
    array_contains({{ column }}, {{ value }})
{%- endmacro %}

{% macro duckdb__list_has(column, value) -%}
    list_contains({{ column }}, {{ value }})
{%- endmacro %}

{#- The Dice coefficient of two lists of distinct elements (set bits of Bloom filters):
    twice what they share over how many they hold. -#}
{% macro dice(left, right) -%}
    2.0 * {{ list_overlap(left, right) }} / ({{ list_length(left) }} + {{ list_length(right) }})
{%- endmacro %}
