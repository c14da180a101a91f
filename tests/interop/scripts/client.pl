#!/usr/bin/perl
# A Perl (Gearman::Client) client for the interop tests.
# Usage: perl client.pl HOST PORT SCENARIO
# Prints what it observed, one fact per line, so two servers can be compared line by line.
use strict;
use warnings;
use Gearman::Client;

@ARGV == 3 or die "usage: client.pl HOST PORT SCENARIO\n";
my ($host, $port, $scenario) = @ARGV;
$| = 1;

my $client = Gearman::Client->new(job_servers => ["$host:$port"]);

sub show { my ($r) = @_; defined $r ? (ref $r ? $$r : $r) : "undef" }

sub status_line {
    my ($st) = @_;
    return "undef" unless $st;
    return join(" ", $st->known ? 1 : 0, $st->running ? 1 : 0, join("/", @{$st}[2, 3]));
}

if ($scenario eq "do") {
    print "do_task ", show($client->do_task(reverse => "Hello World!")), "\n";
    print "do_task high ", show($client->do_task(upper => "high", { priority => "high" })), "\n";
    print "do_task low ", show($client->do_task(upper => "low", { priority => "low" })), "\n";
    print "do_task timed ", show($client->do_task(timed => "t")), "\n";
    my @status;
    my $r = $client->do_task(progress => "p", { on_status => sub { push @status, "$_[0]/$_[1]" } });
    print "do_task progress ", show($r), " status ", join(",", @status), "\n";
    my $failed = 0;
    $r = $client->do_task(fail => "f", { on_fail => sub { $failed++ } });
    print "do_task fail ", show($r), " on_fail $failed\n";
}
elsif ($scenario eq "background") {
    # No worker yet: the jobs stay queued.
    my $h1 = $client->dispatch_background(upper => "bg1", { uniq => "perl-u1" });
    my ($js, $handle) = split m{//}, $h1 // "";
    print "handle ", ($handle // "") =~ /^H:gb:\d+$/ ? "ok" : "bad:" . ($h1 // "undef"), "\n";
    my $same = $client->dispatch_background(upper => "other", { uniq => "perl-u1" });
    print "same uniq ", ($same // "") eq $h1 ? "same" : "new", "\n";
    my $d1 = $client->dispatch_background(upper => "payload", { uniq => "-" });
    my $d2 = $client->dispatch_background(upper => "payload", { uniq => "-" });
    my $d3 = $client->dispatch_background(upper => "other payload", { uniq => "-" });
    print "uniq - same payload ", $d1 eq $d2 ? "same" : "new", "\n";
    print "uniq - other payload ", $d1 eq $d3 ? "same" : "new", "\n";
    print "get_status queued ", status_line($client->get_status($h1)), "\n";
    print "get_status unknown ", status_line($client->get_status("$js//H:gb:999")), "\n";
}
elsif ($scenario eq "timeout") {
    # Nobody can do "nobody": the client gives up after its timeout.
    my $failed = 0;
    my $r = $client->do_task(nobody => "x", { timeout => 1, on_fail => sub { $failed++ } });
    print "do_task timeout ", show($r), " on_fail $failed\n";
}
elsif ($scenario eq "exceptions") {
    # The worker (worker.php) sends WORK_EXCEPTION "kaboom" for function "explode".
    my $plain = Gearman::Client->new(job_servers => ["$host:$port"]);
    my ($failed, $exception) = (0, "none");
    my $r = eval {
        $plain->do_task(explode => "x",
            { on_fail => sub { $failed++ }, on_exception => sub { $exception = shift } });
    };
    my $err = $@ ? "died: " . (split /\n/, $@)[0] : "ok";
    $err =~ s/ at \S+ line \d+\.?$//;
    $err =~ s/\0/\\0/g;
    print "without exceptions: ", show($r), " on_fail $failed exception $exception $err\n";

    my $opted = Gearman::Client->new(job_servers => ["$host:$port"], exceptions => 1);
    ($failed, $exception) = (0, "none");
    $r = $opted->do_task(explode => "y",
        { on_fail => sub { $failed++ }, on_exception => sub { $exception = shift } });
    print "with exceptions: ", show($r), " on_fail $failed exception $exception\n";
}
else {
    die "unknown scenario $scenario\n";
}
exit 0;
