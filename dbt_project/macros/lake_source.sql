{#-
    A lake source that may have no files yet (a source that never delivered): then an
    empty relation with the source's columns, instead of DuckDB's "No files found" error.
    Only staging models call it; it is where source() is used.

    The source reads its files with union_by_name, which makes DuckDB open every file's
    footer on every query: with years of daily partitions that, not the rows, is most of
    a nightly query's cost. When every file has the same columns (ingestion writes each
    partition from the contract) reading by the first file's schema gives the same rows,
    so union_by_name is kept only while the lake mixes schemas (a contract changed).
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
    {%- elif execute and 'union_by_name' in (relation | string)
        and yecai.lake_schemas_agree(source_name, table_name) -%}
        {{ (relation | string) | replace(", union_by_name = true", "") }}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{% macro lake_schemas_agree(source_name, table_name) -%}
    {{ return(adapter.dispatch('lake_schemas_agree', 'yecai')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__lake_schemas_agree(source_name, table_name) -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__lake_schemas_agree(source_name, table_name) -%}
    {%- set found = run_query(
        "select count(distinct signature) from (select file_name, string_agg(name || ' '"
        ~ " || coalesce(type, ''), ',' order by name) as signature from parquet_schema('"
        ~ yecai.lake_pattern(source_name, table_name) | replace("'", "''")
        ~ "') group by file_name) as files"
    ) -%}
    {{ return(found.columns[0].values()[0] == 1) }}
{%- endmacro %}

{#- Where a source's files are: a contract's rows under lake/<raw|quarantine>/<source>/,
    or the home_glob its meta gives (relative to the home). -#}
{% macro lake_pattern(source_name, table_name) -%}
    {%- set node = graph.sources['source.yecai.' ~ source_name ~ '.' ~ table_name] -%}
    {%- if node.meta.home_glob -%}
        {{ return(env_var('YECAI_HOME') ~ '/' ~ node.meta.home_glob) }}
    {%- endif -%}
    {%- set zone = 'raw' if table_name == 'lake_raw' else 'quarantine' -%}
    {{ return(env_var('YECAI_HOME') ~ '/lake/' ~ zone ~ '/' ~ source_name ~ '/*/*.parquet') }}
{%- endmacro %}

{% macro lake_has_files(source_name, table_name) -%}
    {{ return(adapter.dispatch('lake_has_files', 'yecai')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__lake_has_files(source_name, table_name) -%}
    {{ return(true) }}
{%- endmacro %}

{% macro duckdb__lake_has_files(source_name, table_name) -%}
    {%- set pattern = yecai.lake_pattern(source_name, table_name) -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern | replace("'", "''") ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
