{#-
    A lake source that may have no files yet (a source that never delivered): then an
    empty relation with the source's columns, instead of DuckDB's "No files found" error.
    Only staging models call it; it is where source() is used.
-#}
{% macro lake_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and not yecai.lake_has_files(source_name, table_name) -%}
        {%- set node = graph.sources['source.yecai.' ~ source_name ~ '.' ~ table_name] -%}
        (select
            {%- for column in node.columns.values() %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{% macro lake_has_files(source_name, table_name) -%}
    {{ return(adapter.dispatch('lake_has_files', 'yecai')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__lake_has_files(source_name, table_name) -%}
    {{ return(true) }}
{%- endmacro %}

{% macro duckdb__lake_has_files(source_name, table_name) -%}
    {%- set zone = 'raw' if table_name == 'lake_raw' else 'quarantine' -%}
    {%- set pattern = env_var('YECAI_HOME') ~ '/lake/' ~ zone ~ '/' ~ source_name ~ '/*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
