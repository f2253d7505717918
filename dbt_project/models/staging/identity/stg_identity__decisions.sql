{# Reviewers' decisions: which pairs are one person and which are two. #}
with

source as (
    select * from {{ lake_source('identity_review', 'decisions') }}
),

final as (
    select
        upper(trim(pair_id)) as pair_id,
        lower(trim(decision)) as decision
    from source
)

select * from final
