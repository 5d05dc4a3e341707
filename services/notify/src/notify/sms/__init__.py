"""SMS to customers through a cloud SMS provider (issue 15, requirements §8).

It will hold the provider interface and its value types (``domain/provider.py``), the
phone-number check (``domain/numbers.py``), segment counting (``domain/segments.py``), the
parser of delivery receipts (``domain/receipts.py``) and one real adapter, Alibaba Cloud
SMS ``SendSms`` (``aliyun.py``).

Not wired yet: nothing in notify's delivery loop, API, settings or bootstrap uses this
package; a later change chooses the channel, stores receipts and adds the settings.
"""
