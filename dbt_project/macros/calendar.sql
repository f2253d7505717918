{#- ISO 8601 week parts of a date (weeks start on Monday; week 1 holds the year's first
    Thursday, so its ISO year can differ from the calendar year around New Year). -#}
{% macro iso_year(day) -%}
    {{ return(adapter.dispatch('iso_year', 'yecai')(day)) }}
{%- endmacro %}

{% macro default__iso_year(day) -%}
    cast(extract(isoyear from {{ day }}) as integer)
{%- endmacro %}

{% macro spark__iso_year(day) -%}
    cast(extract(yearofweek from {{ day }}) as integer)
{%- endmacro %}

{% macro iso_week(day) -%}
    {{ return(adapter.dispatch('iso_week', 'yecai')(day)) }}
{%- endmacro %}

{% macro default__iso_week(day) -%}
    cast(extract(week from {{ day }}) as integer)
{%- endmacro %}

{#- 1 = Monday … 7 = Sunday. -#}
{% macro iso_day_of_week(day) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'yecai')(day)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(day) -%}
    cast(extract(isodow from {{ day }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(day) -%}
    cast(extract(dayofweek_iso from {{ day }}) as integer)
{%- endmacro %}

{#- A number left-padded with zeros to a width, as text. -#}
{% macro zero_padded(number, width) -%}
    lpad(cast({{ number }} as {{ dbt.type_string() }}), {{ width }}, '0')
{%- endmacro %}
