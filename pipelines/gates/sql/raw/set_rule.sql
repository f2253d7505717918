-- A contract set rule: its query over the loaded rows returns the expected value.
select measured.value
from (select ({{ query }}) as value) as measured
where measured.value <> {{ must_be }}
