{#-
    Connected components: a CTE `components` (node, label, rounds) giving every node the
    smallest label of its component.

    `membership` has (group_id, node): the nodes of a group are connected. `seeds` has
    (node, label) for every node (one or more labels; a label shared by two nodes makes
    them one component, as an edge would).

    Each round does two things, from the labels of the round before:
    - spread: a node takes the smallest label of the groups it is in;
    - jump: it then takes the label that the owner of that label (a node seeded with it)
      has after spreading.
    Why the result is the components, for any graph: a label only ever moves to a node
    connected to where it came from (through a group, or through a shared seed), so every
    label stays the seed of a node of the same component; labels only decrease, so the
    rounds stop; when no label changes, neighbours in a group hold the same label, so a
    component holds one label, and it is the smallest seed in it (that seed's node can hold
    nothing smaller). Spreading alone needs as many rounds as the longest chain of records
    is long; the jump doubles the distance a label travels each round (a chain of n
    records takes about log2(n) rounds: 1,000 in 9, 100,000 in 16).

    On DuckDB a round spreads only the labels the round before gave (semi-naive): a label
    a node holds was spread to its groups in the round after the node took it, so the
    groups no node of which changed have nothing new to give. After a year, a full build's
    second round touches 11 k of 231 k nodes, its third 2 (the model 7–9 s → 5 s). The jump then reads the owners' labels as the round before left them.

    The rounds go on until no label changes. `max_rounds` (var identity_max_rounds) is a
    safety bound: reaching it fails the build, naming the var, rather than leaving people
    split.
-#}
{% macro connected_components(membership, seeds, max_rounds) -%}
    {{ return(adapter.dispatch('connected_components')(membership, seeds, max_rounds)) }}
{%- endmacro %}

{#- A round: spreads the labels of `changed` (node, label) through their groups, then jumps
    to the label the owner has in `owner_labels` (node, label). -#}
{%- macro _components_round(membership, seeds, changed, owner_labels='spread_min') -%}
    group_labels as (
        select
            members.group_id,
            min(changed.label) as group_label
        from {{ membership }} as members
        inner join {{ changed }} as changed on members.node = changed.node
        group by members.group_id
    ),

    spread_min as (
        select
            members.node,
            min(group_labels.group_label) as label
        from {{ membership }} as members
        inner join group_labels on members.group_id = group_labels.group_id
        group by members.node
    ),

    jumped as (
        select
            spread_min.node,
            min(least(spread_min.label, coalesce(owner_labels.label, spread_min.label))) as label
        from spread_min
        left join {{ seeds }} as owners on spread_min.label = owners.label
        left join {{ owner_labels }} as owner_labels on owners.node = owner_labels.node
        group by spread_min.node
    )
{%- endmacro %}

{#- DuckDB: one recursive CTE keyed by node (USING KEY), which keeps each node's latest
    label (recurring.labels) and stops when a round changes none; `labels` in a round is
    what the round before changed. -#}
{% macro duckdb__connected_components(membership, seeds, max_rounds) -%}
    components as (
        with recursive labels (node, label, rounds) using key (node) as (
            select
                node,
                min(label) as label,
                0 as rounds
            from {{ seeds }}
            group by node
            union
            (
                with
                {{ _components_round(membership, seeds, 'labels', 'recurring.labels') }}
                select
                    jumped.node,
                    jumped.label,
                    previous.rounds + 1 as rounds
                from jumped
                inner join recurring.labels as previous on jumped.node = previous.node
                where jumped.label < previous.label and previous.rounds < {{ max_rounds }}
            )
        )
        select
            node,
            case
                when rounds >= {{ max_rounds }}
                    then {{ fail_query(
                        "'identity resolution did not converge in " ~ max_rounds
                        ~ " rounds: raise the dbt var identity_max_rounds'") }}
                else label
            end as label,
            rounds
        from labels
    )
{%- endmacro %}

{#- Elsewhere: the same rounds unrolled, max_rounds of them, and the build fails if one
    more round would still change a label. -#}
{% macro default__connected_components(membership, seeds, max_rounds) -%}
    labels_0 as (
        select
            node,
            min(label) as label
        from {{ seeds }}
        group by node
    ),
    {%- for round in range(max_rounds + 1) %}
    labels_{{ round + 1 }} as (
        with
        {{ _components_round(membership, seeds, 'labels_' ~ round) }}
        select node, label from jumped
    ),
    {%- endfor %}
    components as (
        select
            last_round.node,
            case
                when last_round.label <> extra_round.label
                    then {{ fail_query(
                        "'identity resolution did not converge in " ~ max_rounds
                        ~ " rounds: raise the dbt var identity_max_rounds'") }}
                else last_round.label
            end as label,
            {{ max_rounds }} as rounds
        from labels_{{ max_rounds }} as last_round
        inner join labels_{{ max_rounds + 1 }} as extra_round
            on last_round.node = extra_round.node
    )
{%- endmacro %}

{#- A value whose evaluation fails the query with `message` (a SQL string literal). -#}
{% macro fail_query(message) -%}
    {{ return(adapter.dispatch('fail_query')(message)) }}
{%- endmacro %}

{% macro default__fail_query(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro duckdb__fail_query(message) -%}
    cast(error({{ message }}) as varchar)
{%- endmacro %}
