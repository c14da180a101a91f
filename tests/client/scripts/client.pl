#!/usr/bin/perl
# Test client: perl client.pl SERVERS FUNCTION PAYLOAD [background]
use strict;
use warnings;
use Gearman::Client;
my ($servers, $function, $payload, $mode) = @ARGV;
my $client = Gearman::Client->new(job_servers => [split /,/, $servers]);
if (($mode // "") eq "background") {
  my $handle = $client->dispatch_background($function, $payload);
  die "dispatch_background failed\n" unless defined $handle;
  print $handle;
  exit 0;
}
my $result = $client->do_task($function, $payload, {on_fail => sub { die "job failed\n" }});
die "do_task failed\n" unless defined $result;
print $$result;
