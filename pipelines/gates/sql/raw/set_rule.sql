-- A contract set rule: its query over the loaded rows returns the expected value.
select measured.measured_value
from (select ({{ query }}) as measured_value) as measured
where measured.measured_value <> {{ must_be }}
