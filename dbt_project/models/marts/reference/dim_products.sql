{# Products (商品), from the reference data; category names are in dim_categories. #}
select
    sku,
    product_name,
    brand_code,
    category,
    subcategory,
    is_rx,
    is_traceable,
    vat_rate,
    unit_of_measure
from {{ ref('products') }}
