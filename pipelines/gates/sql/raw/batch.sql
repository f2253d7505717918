-- The rows loaded for the window, as the staging model shows them.
select * from {{ ref(model) }}
where {{ window.sql('business_date') }}
