{# Every identifier each customer record shows, as a node of the identity graph (see
    int_identity__record_profiles for which they are), and the record's least one. #}
with

records as (
    select * from {{ ref('int_identity__record_profiles') }}
),

identifiers as (
    {%- for type, column in [('phone', 'phone_node'), ('email', 'email_node'),
        ('id_number', 'id_node'), ('member', 'member_node')] %}
        select
            record_source,
            record_id,
            business_date,
            '{{ type }}' as identifier_type,
            {{ column }} as identifier,
            record_node
        from records
        where {{ column }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from identifiers
