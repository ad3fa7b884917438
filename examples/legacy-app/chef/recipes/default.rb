#
# Cookbook:: legacy_app
# Recipe:: default
#
# The box before we moved to Puppet (2018). Kept "for the DR site" -- check before trusting it.
#

%w(python3 python3-venv python3-dev libpq5 libpq-dev build-essential logrotate).each do |pkg|
  package pkg
end

user 'legacy' do
  uid 990
  home '/opt/legacy-app'
  shell '/bin/false'
  system true
  manage_home false
end

directory '/opt/legacy-app' do
  owner 'legacy'
  group 'legacy'
  mode '0755'
end

directory '/etc/legacy-app'

template '/etc/legacy-app/legacy-app.ini' do
  source 'legacy-app.ini.erb'
  owner 'legacy'
  mode '0640'
  variables(
    db_host: node['legacy_app']['db_host'] || 'db1.internal',
    db_port: 5432,
    db_name: 'orders',
    db_user: 'legacy',
    db_password: node['legacy_app']['db_password'],
    cache_host: 'cache1.internal',
    cache_port: 6379,
    workers: 4,
    max_age_days: 30
  )
  notifies :restart, 'service[legacy-app]', :delayed
end

directory '/var/log/legacy-app' do
  owner 'legacy'
end

execute 'legacy-app-venv' do
  command '/usr/bin/python3 -m venv /opt/legacy-app/venv && /opt/legacy-app/venv/bin/pip install -r /opt/legacy-app/requirements.txt'
  user 'legacy'
  creates '/opt/legacy-app/venv/bin/gunicorn'
end

cookbook_file '/etc/systemd/system/legacy-app.service' do
  source 'legacy-app.service'
end

service 'legacy-app' do
  action [:enable, :start]
end

cron 'legacy-app-purge' do
  minute '*/15'
  user 'legacy'
  command 'cd /opt/legacy-app && venv/bin/python -m legacy_app.purge >> /var/log/legacy-app/purge.log 2>&1'
end
