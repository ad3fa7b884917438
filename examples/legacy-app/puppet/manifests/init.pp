# == Class: legacy_app
#
# The order-tracking API on app1/app2. Code arrives by `make deploy` (rsync), not by Puppet.
#
# === Parameters
# [*db_host*]      PostgreSQL host (db1.internal)
# [*db_password*]  from hiera (legacy_app::db_password), eyaml-encrypted
#
class legacy_app (
  String  $db_host      = 'db1.internal',
  Integer $db_port      = 5432,
  String  $db_name      = 'orders',
  String  $db_user      = 'legacy',
  String  $db_password  = 'changeme',
  String  $cache_host   = 'cache1.internal',
  Integer $cache_port   = 6379,
  Integer $workers      = 2,
  Integer $max_age_days = 30,
) {
  package { ['python3', 'python3-venv', 'libpq5', 'logrotate']:
    ensure => installed,
  }

  user { 'legacy':
    ensure => present,
    uid    => 990,
    home   => '/opt/legacy-app',
    shell  => '/usr/sbin/nologin',
    system => true,
  }

  file { '/opt/legacy-app':
    ensure => directory,
    owner  => 'legacy',
    group  => 'legacy',
    mode   => '0755',
  }

  file { '/etc/legacy-app':
    ensure => directory,
  }

  file { '/etc/legacy-app/legacy-app.ini':
    ensure  => file,
    content => template('legacy_app/legacy-app.ini.erb'),
    owner   => 'legacy',
    mode    => '0640',
    require => File['/etc/legacy-app'],
    notify  => Service['legacy-app'],
  }

  file { '/var/log/legacy-app':
    ensure => directory,
    owner  => 'legacy',
  }

  exec { 'legacy-app-venv':
    command => '/usr/bin/python3 -m venv /opt/legacy-app/venv && /opt/legacy-app/venv/bin/pip install -r /opt/legacy-app/requirements.txt',
    creates => '/opt/legacy-app/venv/bin/gunicorn',
    user    => 'legacy',
    path    => ['/usr/bin', '/bin'],
    require => [Package['python3-venv'], File['/opt/legacy-app']],
  }

  file { '/etc/systemd/system/legacy-app.service':
    ensure => file,
    source => 'puppet:///modules/legacy_app/legacy-app.service',
  }

  service { 'legacy-app':
    ensure  => running,
    enable  => true,
    require => [Exec['legacy-app-venv'], File['/etc/systemd/system/legacy-app.service']],
  }

  cron { 'legacy-app-purge':
    command => 'cd /opt/legacy-app && venv/bin/python -m legacy_app.purge',
    user    => 'legacy',
    minute  => '*/15',
  }
}
