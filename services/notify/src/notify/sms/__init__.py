"""SMS to customers through a cloud SMS provider (issue 15, requirements §8).

The provider interface and its value types (``domain/provider.py``), the phone-number check
(``domain/numbers.py``), segment counting (``domain/segments.py``), the parser of delivery
receipts (``domain/receipts.py``), one real adapter, Alibaba Cloud SMS ``SendSms``
(``aliyun.py``), the channel the delivery loop calls (``sender.py``: :class:`SmsSender`,
built by :func:`make_sms_sender` from the ``NOTIFY_SMS_*`` settings) and the receipt callback
(``api.py`` → ``service.py`` → ``db.py``, on the delivery log's SMS columns).
"""
