{# Brands (品牌) with their names, from the reference data. #}
select
    brand_code,
    brand_name,
    brand_name_zh,
    business_line
from {{ ref('brands') }}
