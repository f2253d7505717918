-- Campaign-months of the window over budget.
select
    campaign_id,
    period
from {{ batch }}
where is_over_budget and {{ window.months_sql('period') }}
