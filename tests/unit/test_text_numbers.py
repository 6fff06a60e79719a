"""Where a text message goes: a citizen's 11-digit mobile is dialled in China, the demo staff
directory's E.164 numbers (the fictional +44 7700 900xxx range) as they are."""
from chalicelib.adapters import notifier


class Sns:
    def __init__(self):
        self.published = []

    def publish(self, **kwargs):
        self.published.append(kwargs)


def test_a_chinese_mobile_gets_its_country_code_and_an_e164_number_is_left_alone(monkeypatch):
    sns = Sns()
    monkeypatch.setattr(notifier.aws, "client", lambda name: sns)
    notifier.SnsNotifier().send("13800138000", "您好")
    notifier.SnsNotifier().send("+447700900002", "黄灯预警")
    assert [p["PhoneNumber"] for p in sns.published] == ["+8613800138000", "+447700900002"]
