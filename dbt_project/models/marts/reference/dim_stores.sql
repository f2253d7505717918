{# Stores, online shops, micro-shops and warehouses (门店与仓库), from the reference data. #}
select
    store_id,
    store_name,
    brand_code,
    channel_code,
    store_type,
    city,
    region,
    license_no,
    license_valid_from,
    license_valid_to
from {{ ref('stores') }}
