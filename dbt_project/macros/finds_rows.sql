{#- Whether a query returns any row: a run-time check that decides what a model reads. -#}
{% macro finds_rows(query) -%}
    {%- set found = run_query("select count(*) from (" ~ query ~ ") as rows_found") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
