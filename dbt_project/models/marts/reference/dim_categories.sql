{# Product categories (品类), from the reference data. #}
select
    category,
    category_name,
    category_name_zh
from {{ ref('categories') }}
