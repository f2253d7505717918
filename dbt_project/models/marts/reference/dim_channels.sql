{# Sales channels (渠道: 天网 / 地网 / 人网 / 关系网), from the reference data. #}
select
    channel_code,
    channel_name,
    channel_name_zh,
    channel_description
from {{ ref('channels') }}
