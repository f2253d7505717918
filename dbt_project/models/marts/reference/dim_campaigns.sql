{# Marketing campaigns (营销活动), from the budget reference data. #}
select
    campaign_id,
    campaign_name,
    brand_code,
    period
from {{ ref('marketing_budgets') }}
