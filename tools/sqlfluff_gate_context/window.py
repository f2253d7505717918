"""Stand-in for the gates' Window when sqlfluff lints pipelines/gates/sql (jinja templater
library_path): its methods render the SQL the real ones do, for a sample window."""

start = "2024-03-01"
end = "2024-03-31"


def sql(column):
    return f"{column} between date '{start}' and date '{end}'"


def months_sql(column):
    return f"{column} between strftime(date '{start}', '%Y-%m') and strftime(date '{end}', '%Y-%m')"
