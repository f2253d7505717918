{#-
    Connected components by min-label propagation, in portable SQL: CTEs labels_0 ..
    labels_<rounds>, each node's label the smallest label reachable within `rounds` hops.
    `membership` has (group_id, node): nodes of a group are connected. `seeds` has
    (node, label) for every node. Each round reads the previous one once (a window min
    per group, then a min per node), so an engine never re-evaluates rounds.
    The caller checks convergence: int_identity__record_keys' customer_keys_found test.
-#}
{% macro connected_components(membership, seeds, rounds) -%}
    labels_0 as (
        select node, min(label) as label from {{ seeds }} group by node
    ),
    {%- for round in range(rounds) %}
    labels_{{ round + 1 }} as (
        select node, min(group_label) as label
        from (
            select
                members.node,
                min(labels.label) over (partition by members.group_id) as group_label
            from {{ membership }} as members
            inner join labels_{{ round }} as labels on members.node = labels.node
        ) as spread
        group by node
    ){{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
