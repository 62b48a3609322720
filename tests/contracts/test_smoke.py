def test_full_epoch_smoke(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [5_000] * 24)
    proto.commit(op, c)
    proto.goto(proto.commit_deadline(0))
    proto.reveal(c, proto.admin)
    assert proto.registry.getForecast(proto.feed, op, 0, 23).value == 5_000
