#!/usr/bin/perl
# Test worker: perl worker.pl SERVERS. Registers reverse (with a 5 s timeout, which Perl sends
# as CAN_DO_TIMEOUT in seconds) and shout.
use strict;
use warnings;
use Gearman::Worker;
my $worker = Gearman::Worker->new(job_servers => [split /,/, $ARGV[0]]);
$worker->register_function(reverse => 5 => sub { return scalar reverse $_[0]->arg; });
$worker->register_function(shout => sub { return uc($_[0]->arg) . "!"; });
$worker->work while 1;
