{#-
    For each row of `left`, the columns of the latest `right` row at or before it in time,
    matched on the `by` columns (an as-of join). DuckDB has a native ASOF JOIN; other
    engines get a portable left join ranked by time (slower: it pairs every earlier row).
-#}
{% macro asof_left_join(left, right, left_by, right_by, left_time, right_time, right_columns, left_key) -%}
    {{ return(adapter.dispatch('asof_left_join', 'yecai')(
        left, right, left_by, right_by, left_time, right_time, right_columns, left_key)) }}
{%- endmacro %}

{% macro duckdb__asof_left_join(left, right, left_by, right_by, left_time, right_time, right_columns, left_key) -%}
    select
        lhs.*{% for column in right_columns %},
        rhs.{{ column }}{% endfor %}
    from {{ left }} as lhs
    asof left join {{ right }} as rhs
        on {% for l, r in zip(left_by, right_by) %}lhs.{{ l }} = rhs.{{ r }} and {% endfor -%}
        lhs.{{ left_time }} >= rhs.{{ right_time }}
{%- endmacro %}

{% macro default__asof_left_join(left, right, left_by, right_by, left_time, right_time, right_columns, left_key) -%}
    select * from (
        select
            lhs.*{% for column in right_columns %},
            rhs.{{ column }}{% endfor %},
            row_number() over (
                partition by {% for k in left_key %}lhs.{{ k }}{{ ", " if not loop.last }}{% endfor %}
                order by rhs.{{ right_time }} desc
            ) as asof_rank
        from {{ left }} as lhs
        left join {{ right }} as rhs
            on {% for l, r in zip(left_by, right_by) %}lhs.{{ l }} = rhs.{{ r }} and {% endfor -%}
            rhs.{{ right_time }} <= lhs.{{ left_time }}
    ) as ranked
    where asof_rank = 1
{%- endmacro %}
