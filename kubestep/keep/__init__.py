"""Step 6, keep it running: what the migrated service needs to be operated in the cluster.

Each module builds one kind of artifact from the answers (plain data in, plain data out):
`bridge` (legacy hosts as cluster names), `alerts` (rules by labels, their unit tests, the
Alertmanager route), `checks` (Nagios checks as probes, alerts or CronJobs), `cron` (legacy
cron entries as CronJobs), `consul` (catalog sync with consul-k8s), on the data of `model`.
`files` turns them into the YAML the template and the step write; `jinja` lets the template
call it.
"""
